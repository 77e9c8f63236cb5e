"""Client of the deployment-tracking API: generated stubs in chainloop.v1, helpers in chainloop.client."""
