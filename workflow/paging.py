"""The sizes of the pages the product lists cases in: one place for the inbox's choices,
the API's default and largest page, and the storage that writes these limits into its
SQL (`inbox_repo.WRITTEN_LIMITS`)."""

from __future__ import annotations

PAGE_SIZES = (10, 20, 50, 100)  # the inbox's `per` choices (每页件数)
PAGE_SIZE = 50  # the inbox's and the API's page unless one is chosen
API_MAX_PAGE = 200  # the largest page the API gives (`limit`)
