"""Shared pytest set-up."""

# Fixtures for tests against the test CKAN, and for tests that run the main job.
from tests.ckan_fixtures import *  # noqa: F401,F403
from tests.pipeline_fixtures import *  # noqa: F401,F403
