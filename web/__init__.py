"""The DEC web console (Starlette + Jinja2, server-rendered, French)."""
