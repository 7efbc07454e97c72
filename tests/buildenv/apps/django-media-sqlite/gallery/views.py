"""Each request stores an "upload" under MEDIA_ROOT and counts it in SQLite."""

import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponse


def upload(request):
    name = default_storage.save(f"uploads/{time.time_ns()}.txt", ContentFile(b"photo"))
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS uploads (name TEXT)")
        cur.execute("INSERT INTO uploads VALUES (%s)", [name])
        cur.execute("SELECT COUNT(*) FROM uploads")
        (count,) = cur.fetchone()
    return HttpResponse(f"{count} uploads in {settings.MEDIA_ROOT}\n")
