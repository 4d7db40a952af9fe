"""The services metadata comes from (Crossref now), and how their answers become fields."""
