from infra_advisor.interface.entry import main

main()
