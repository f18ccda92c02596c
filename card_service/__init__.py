"""Desktop card service for office PCs (PC/SC smart cards, QR pairing): not built yet.

It arrives with the card-service issue; see the README's status section.
"""
