print("kwire")
