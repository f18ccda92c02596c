"""村务通's desktop card service for office PCs: smart cards over PC/SC and QR pairing with a phone.

- ``device_key``: the PC's Ed25519 key (made on first start, kept 0600) and its signed requests;
- ``api``: ``BackendClient``, the backend's device API with typed errors and careful retries;
- ``presenter``: all UI logic as a state machine with a plain view-model (no Tk);
- ``window``: the Tk window that draws the view-model; ``qr``: QR images;
- ``card``: the card layer (PC/SC, PIV); ``protocol``: the byte-exact wire definitions;
- ``fakes``: a software card issuer CA and a software PIV card for the tests and the demo.

Run it with ``python -m card_service --backend URL``; see the README's "Card service".
"""
