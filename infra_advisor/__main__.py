from infra_advisor.interface.entry import console

console()
