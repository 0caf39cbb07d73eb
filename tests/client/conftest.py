"""Client tests share the root conftest and `tests.helpers`."""
