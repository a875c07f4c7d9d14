"""An example ETL source: the user office of the (made-up) Hypothetical Neutron Source."""
