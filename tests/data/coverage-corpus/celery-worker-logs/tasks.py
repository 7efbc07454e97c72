from celery import Celery

app = Celery("tasks", broker="redis://redis:6379/0")


@app.task
def send_report(report_id: int) -> str:
    return f"report {report_id} sent"
