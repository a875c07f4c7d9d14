"""The admin GraphQL API (``/api/graphql``, spec/api.md §5) on tartiflette; see docs/graphql.md."""

from visa_platform.api.graphql.sdl import load_sdl

__all__ = ["load_sdl"]
