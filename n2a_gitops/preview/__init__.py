"""Running an app here as its pod would (`n2a preview`) and `publish --check` on top of it."""
