"""Writers for the launch bundle's files, one module per file kind."""
