"""Planning: what a framework runs on a chip, which layouts fit, and how many chips to use."""
