//! Visiting every component with its type in hand.

use crate::model::ComponentDescriptor;
use crate::vendors::Vendor;

/// The vendor of component `D`, as the registry holds it.
pub type VendorOf<D> =
    dyn Vendor<Config = <D as ComponentDescriptor>::Config, Connection = <D as ComponentDescriptor>::Connection>;

/// Something done once per component, with the component's type in hand.
pub trait ComponentVisitor {
    /// Visits component `D` run by `vendor`.
    fn visit<D: ComponentDescriptor>(&mut self, vendor: &'static VendorOf<D>);
}
