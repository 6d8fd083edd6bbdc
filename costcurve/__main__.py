from costcurve.cli import main

main()
