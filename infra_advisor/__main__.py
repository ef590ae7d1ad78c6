from infra_advisor.entry import main

main()
