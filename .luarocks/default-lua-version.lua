return "5.1"
