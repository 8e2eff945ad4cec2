"""Who is acting (signed-in identity, --user or the OS user), what their role lets them change, and the audit log."""
