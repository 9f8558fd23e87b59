#include <iostream>

int main() {
  std::cout << "flowlab " << FLOWLAB_VERSION << "\n";
  return 0;
}
