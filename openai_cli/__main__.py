from openai_cli.main import main

main()
