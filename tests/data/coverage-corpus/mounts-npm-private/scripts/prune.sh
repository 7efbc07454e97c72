echo prune
