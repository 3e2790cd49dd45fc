"""Real documents nobody on this project made (``../shared/realworld``): placeholder."""
