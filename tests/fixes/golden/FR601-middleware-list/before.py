from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

ORIGINS = ["*"]

app = FastAPI(
    middleware=[
        Middleware(CORSMiddleware, allow_origins=ORIGINS, allow_credentials=True, allow_methods=["GET"]),
    ]
)


def create_app() -> FastAPI:
    application = FastAPI()
    application.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True,)
    return application
