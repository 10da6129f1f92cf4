print("lsskd: under construction")
