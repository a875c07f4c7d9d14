"""Business rules (who may do what, quotas, lifetimes, the state machine).

Services take an explicit actor and a database session and never import a vendor SDK.
"""
