"""Pretrained models and vectors bundled with sparkner (loaded offline)."""
