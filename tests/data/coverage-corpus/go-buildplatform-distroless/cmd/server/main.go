package main

var version = ""

func main() {}
