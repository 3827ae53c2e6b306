"""Extensions: capabilities later steps plug in by adding ONE module here.

`create_app()` imports every public module of this package (names starting with `_`
are skipped), sorted by `(ORDER, name)`; `ORDER` defaults to 100. A module may define

    ORDER = 10
    def install(app: FastAPI, settings: Settings) -> None: ...   # routers, middleware
    def lifespan(app: FastAPI) -> AbstractAsyncContextManager[None]: ...  # resources

Lifespans are entered in that order at startup and exited in reverse at shutdown.
Step 03 adds `database.py`; later steps add `auth.py`, `redis.py`, ... - `app/main.py`
itself never changes.
"""
