"""Sources produce Articles: a folder of article files, RSS/Atom feeds."""
