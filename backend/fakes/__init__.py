"""Local stand-ins for outside services we cannot reach in tests and the demo.

Each speaks the real wire protocol, so the production clients talk to it unchanged: only the base
URL differs. Never used in production.
"""
