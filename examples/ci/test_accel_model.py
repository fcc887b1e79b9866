"""accel in CI: the model's hardware must compute exactly what the QKeras model computes."""


def test_digits_exact(accel_verify):
    accel_verify("digits", against=["qkeras", "rtl"], samples=20)
