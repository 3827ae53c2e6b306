"""Repository ports: abstract interfaces the services depend on."""
