import psycopg2
from django.conf import settings
from django.http import HttpResponse


def index(request):
    # psycopg2's C extension links libpq; collectstatic ran at build time
    css = settings.STATIC_ROOT / "shop.css"
    return HttpResponse(
        f"shop ok: libpq {psycopg2.__libpq_version__}, static {css.is_file()}\n",
        content_type="text/plain",
    )
