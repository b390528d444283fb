// Replaced by the gateway command.
print("clasp-gateway")
