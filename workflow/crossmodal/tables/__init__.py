"""Paper tables: our metric rows laid out as the papers' tables, with their numbers beside ours."""
