"""What the app's pod gets: access and the sign-in proxy, resources, Secret references, env values."""
