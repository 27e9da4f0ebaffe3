"""Stage 4: the live dashboard launcher (import name of 03.stage4/)."""
