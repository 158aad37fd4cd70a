from fastapi import Depends, FastAPI, Query, Security
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from typing import Annotated

app = FastAPI()
oauth2 = OAuth2PasswordBearer(tokenUrl="token")


def get_db(): ...


@app.get("/items")
def list_items(db: Annotated[Session, Depends(get_db)], token: Annotated[str, Security(oauth2, scopes=["items"])]):
    return []


@app.get("/search")
def search(q: str = Query(""), db: Session = Depends(get_db)):  # kept: it would follow a default
    return []


@app.get("/me")
async def me(*, user=Depends(get_db), db: Annotated[Session, Depends()]):  # `user` kept: no annotation
    return user
