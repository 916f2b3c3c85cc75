// Deliberately breaks the no-heap rule, so that tests can prove check-no-heap notices.
#include <cstdlib>

void* pinhole_test_allocate(std::size_t bytes) { return std::malloc(bytes); }
int* pinhole_test_new_int() { return new int(1); }
