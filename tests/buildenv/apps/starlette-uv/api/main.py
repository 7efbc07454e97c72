import orjson
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


async def index(request):
    # orjson is a compiled extension: its import proves the environment was copied whole
    return Response(orjson.dumps({"status": "api ok"}), media_type="application/json")


app = Starlette(routes=[Route("/", index)])
