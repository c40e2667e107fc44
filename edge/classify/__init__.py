"""Emotion classifiers: one backend per file (`tflite.py`: LiteRT)."""
