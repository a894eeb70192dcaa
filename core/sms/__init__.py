"""SMS gateways: their definitions (``gateways``), the provider modules that turn a
definition, a phone number and a text into one delivery (``providers``), and the
deliveries themselves (``delivery``), which an edge carries out on the reactor."""
