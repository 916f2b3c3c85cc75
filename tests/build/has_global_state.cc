// Deliberately keeps global state, so that tests can prove check-no-global-state notices.
int pinhole_test_counter = 1;
int pinhole_test_next() { return pinhole_test_counter++; }
