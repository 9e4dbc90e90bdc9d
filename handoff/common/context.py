from contextvars import ContextVar

# The id of the web request being served; empty in tasks and commands.
request_id_var: ContextVar[str] = ContextVar("request_id", default="")
