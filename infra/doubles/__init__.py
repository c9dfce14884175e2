"""Loopback doubles of the external systems recon talks to (wallet, Pushbullet, Telegram)."""
