"""model: the torch model and process group as the loop needs them"""
