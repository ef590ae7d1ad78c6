from infra_advisor.cli import main

main()
