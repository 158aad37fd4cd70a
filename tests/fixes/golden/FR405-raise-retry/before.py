import requests
from celery import Celery, Task, shared_task

app = Celery("jobs", broker="redis://localhost")


@app.task(bind=True, max_retries=3)
def fetch(self, url: str) -> str:
    try:
        response = requests.get(url, timeout=10)
    except requests.RequestException as exc:
        self.retry(exc=exc, countdown=60)
    return response.text


@shared_task
def poll(job_id: int) -> None:
    if job_id < 0:
        poll.retry(countdown=5)


class Resilient(Task):
    def run(self, job_id: int) -> None:
        if job_id:
            self.retry(countdown=1); return
