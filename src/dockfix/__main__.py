from dockfix.cli import main

main()
