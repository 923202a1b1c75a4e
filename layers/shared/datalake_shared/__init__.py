"""Code shared by every datalake-events function, shipped as the SharedLayer."""
