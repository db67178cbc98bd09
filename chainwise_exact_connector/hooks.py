def post_init_hook(env):
    """Nothing to prepare yet: the connection is configured by a person."""
