"""The generation path: request -> prompt -> backend tokens -> text events -> result."""
